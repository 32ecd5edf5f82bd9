"""What every service process shares: its database, outbox relay and consumer loops."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, SQLModel

from shared.crypto import use_keyring
from shared.db import Database
from shared.events.envelope import Envelope
from shared.kafka import Consumer, Handler, Publisher
from shared.loops import BackgroundLoops
from shared.outbox import OutboxEvent, OutboxRelay, ProcessedEvent
from shared.settings import ChartflowSettings


@dataclass
class Runtime:
    settings: ChartflowSettings
    db: Database
    loops: BackgroundLoops = field(default_factory=BackgroundLoops)

    @classmethod
    def create(cls, settings: ChartflowSettings, tables: Sequence[type[SQLModel]]) -> Runtime:
        """The service's database (tables created when missing), with its PHI keys loaded."""
        use_keyring(settings.phi_keyring())
        db = Database(settings.service_database_url(), [*tables, OutboxEvent, ProcessedEvent])
        db.create_all()
        return cls(settings=settings, db=db)

    def start_outbox_relay(self) -> None:
        async def relay() -> None:
            publisher = Publisher(self.settings.kafka_bootstrap_servers)
            try:
                await publisher.start()
                await OutboxRelay(
                    self.db, publisher, self.settings.outbox_poll_seconds
                ).run_forever()
            finally:
                await publisher.stop()

        self.loops.start("outbox-relay", relay)

    def start_consumer(self, topic: str, handler: Handler) -> None:
        """Consume the (prefixed) topic in this service's consumer group."""
        settings = self.settings
        group = f"{settings.chartflow_namespace_prefix}{settings.service_name}.{topic}"

        async def consume() -> None:
            publisher = Publisher(settings.kafka_bootstrap_servers)
            consumer = Consumer(
                settings.kafka_bootstrap_servers, settings.topic(topic), group, handler, publisher
            )
            try:
                await publisher.start()
                await consumer.start()
                await consumer.run_forever()
            finally:
                await consumer.stop()
                await publisher.stop()

        self.loops.start(f"consumer:{topic}", consume)

    def transactional(self, handle: Callable[[Session, Envelope], None]) -> Handler:
        """A consumer handler that runs `handle(session, envelope)` in one transaction."""

        async def consume(envelope: Envelope) -> None:
            await self.db.run(lambda session: handle(session, envelope))

        return consume

    async def stop(self) -> None:
        await self.loops.stop()
        self.db.close()
