"""What every service process shares: its database, outbox relay and consumer loops."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, SQLModel, text

from shared import migrations
from shared.crypto import use_keyring
from shared.db import Database
from shared.dlq import watch_depth
from shared.events.envelope import Envelope
from shared.kafka import Consumer, ConsumerStatus, Handler, Probe, Publisher, Supersedes
from shared.kafka_security import kafka_auth
from shared.loops import BackgroundLoops
from shared.outbox import OutboxEvent, OutboxRelay, ProcessedEvent
from shared.settings import ChartflowSettings


class CachedProbe:
    """All of `probes` answer; the answer is kept for `ttl` seconds so partitions share it."""

    def __init__(self, probes: Sequence[Probe], ttl: float = 1.0) -> None:
        self.probes = probes
        self.ttl = ttl
        self._answer: tuple[float, bool] | None = None

    async def __call__(self) -> bool:
        now = time.monotonic()
        if self._answer is None or now - self._answer[0] > self.ttl:
            up = True
            for probe in self.probes:
                up = up and await probe()
            self._answer = (now, up)
        return self._answer[1]


@dataclass
class Runtime:
    settings: ChartflowSettings
    db: Database
    loops: BackgroundLoops = field(default_factory=BackgroundLoops)
    consumers: dict[str, Consumer] = field(default_factory=dict)
    dlq_depth_seconds: float = 30.0
    # Gauges a service sets from its database when `/metrics` is scraped (e.g. queue depth).
    scrape_hooks: list[Callable[[Session], None]] = field(default_factory=list)
    _watched: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, settings: ChartflowSettings, tables: Sequence[type[SQLModel]]) -> Runtime:
        """The service's database, migrated to the newest schema, with its PHI keys loaded."""
        use_keyring(settings.phi_keyring())
        db = Database(settings.service_database_url(), [*tables, OutboxEvent, ProcessedEvent])
        migrations.upgrade(db, settings.service_name)
        return cls(settings=settings, db=db)

    def start_outbox_relay(self) -> None:
        async def relay() -> None:
            auth = kafka_auth(self.settings)
            publisher = Publisher(self.settings.kafka_bootstrap_servers, **auth)
            try:
                await publisher.start()
                await OutboxRelay(
                    self.db, publisher, self.settings.outbox_poll_seconds
                ).run_forever()
            finally:
                await publisher.stop()

        self.loops.start("outbox-relay", relay)

    async def database_answers(self) -> bool:
        """The health probe of the service's database."""
        await self.db.run(lambda session: session.connection().execute(text("SELECT 1")).one())
        return True

    def start_consumer(
        self,
        topic: str,
        handler: Handler,
        probes: Sequence[Probe] = (),
        in_flight: int = 1,
        supersedes: Supersedes | None = None,
    ) -> None:
        """Consume the (prefixed) topic in this service's consumer group, `in_flight` messages
        of distinct keys at once per partition (for handlers that wait on I/O), skipping the
        waiting events a newer one `supersedes`.

        A transient failure spends its retry budget only while the database and `probes`
        (e.g. Temporal's health check) answer: an outage pauses the consumer instead.
        """
        settings = self.settings
        group = f"{settings.chartflow_namespace_prefix}{settings.service_name}.{topic}"
        dependencies_up = CachedProbe([self.database_answers, *probes])

        async def consume() -> None:
            auth = kafka_auth(settings)
            publisher = Publisher(settings.kafka_bootstrap_servers, **auth)
            consumer = Consumer(
                settings.kafka_bootstrap_servers,
                settings.topic(topic),
                group,
                handler,
                publisher,
                retry_budget_seconds=settings.consumer_retry_budget_seconds,
                max_backoff_seconds=settings.consumer_max_backoff_seconds,
                attempt_timeout_seconds=settings.consumer_attempt_timeout_seconds,
                dependencies_up=dependencies_up,
                max_in_flight=in_flight,
                supersedes=supersedes,
                **auth,
            )
            self.consumers[topic] = consumer
            try:
                await publisher.start()
                await consumer.start()
                await consumer.run_forever()
            finally:
                await consumer.stop()
                await publisher.stop()

        if not self._watched:
            self.loops.start("dlq-depth", self._watch_dlq_depth)
        self._watched.append(topic)
        self.loops.start(f"consumer:{topic}", consume)

    async def _watch_dlq_depth(self) -> None:
        await watch_depth(self.settings, self._watched, self.dlq_depth_seconds)

    def consumer_statuses(self) -> list[ConsumerStatus]:
        return [consumer.status() for consumer in self.consumers.values()]

    def transactional(self, handle: Callable[[Session, Envelope], None]) -> Handler:
        """A consumer handler that runs `handle(session, envelope)` in one transaction."""

        async def consume(envelope: Envelope) -> None:
            await self.db.run(lambda session: handle(session, envelope))

        return consume

    async def stop(self) -> None:
        await self.loops.stop()
        self.db.close()
