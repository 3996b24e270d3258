"""The composition root owns process state: made on first use, one per container, disposed."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from companion.auth import service as auth_service
from companion.auth.passwords import DEFAULT_PARAMETERS, HashParameters, PasswordHasher
from companion.bootstrap import Container, bootstrap
from companion.config import AuthSettings, RagSettings, Settings
from companion.jobs import runner as job_runner
from companion.jobs.runner import JobRunner
from companion.llm.embeddings import Embedder, EmbedderCache, load_embedder

SETTINGS = Settings(auth=AuthSettings(secret_key="container-secret-0123456789-abcdefghij"))


class _Recording(JobRunner):
    """A real runner that also notes its shutdowns."""

    def __init__(self, container: Container) -> None:
        super().__init__(container.session_factory, {}, workers=0)
        self.shutdowns: list[bool] = []

    def shutdown(self, wait: bool = True) -> None:
        self.shutdowns.append(wait)
        super().shutdown(wait)


def _container(engine: Engine) -> Container:
    return bootstrap(SETTINGS, engine=engine)


def test_each_container_has_one_runner_until_it_is_disposed(engine: Engine) -> None:
    first, second = _container(engine), _container(engine)
    runner = first.job_runner(_Recording)
    assert isinstance(runner, _Recording)
    assert job_runner.runner_for(first) is runner  # a later factory is not used again
    assert first.job_runner() is runner
    other = second.job_runner()
    assert other is not runner and type(other) is JobRunner
    first.dispose()
    assert runner.shutdowns == [True]
    assert first.job_runner() is not runner  # a fresh one after dispose
    first.dispose()
    second.dispose()
    assert runner.shutdowns == [True]


def test_an_installed_runner_replaces_and_stops_the_previous_one(engine: Engine) -> None:
    container = _container(engine)
    old = container.job_runner(_Recording)
    assert isinstance(old, _Recording)
    new = _Recording(container)
    assert job_runner.install(container, new) is new
    assert old.shutdowns == [True] and container.job_runner() is new
    job_runner.release(container)
    assert new.shutdowns == [True]
    assert container.job_runner() is not new
    container.dispose()


def test_each_container_loads_its_embedders_once_shares_them_and_lets_go_on_dispose(
    engine: Engine,
) -> None:
    settings = Settings(
        auth=AuthSettings(secret_key="container-secret-0123456789-abcdefghij"),
        rag=RagSettings(embedder="fake"),
    )
    loads: list[str] = []

    def loader(name: str) -> Embedder:
        loads.append(name)
        return load_embedder(name)

    first = bootstrap(settings, engine=engine, embedders=EmbedderCache(loader))
    second = bootstrap(settings, engine=engine, embedders=EmbedderCache(loader))
    embedder = first.embedder()
    assert first.embedder("fake") is embedder and first.memory_embedder() is embedder
    assert second.embedder() is not embedder  # another container, its own load
    assert loads == ["fake", "fake"]
    first.dispose()
    assert first.embedders.loaded() == [] and first.embedder() is not embedder
    shared = EmbedderCache(loader)
    a = bootstrap(settings, engine=engine, embedders=shared)
    b = bootstrap(settings, engine=engine, embedders=shared)
    assert a.embedder() is b.embedder()  # tests share one load between containers
    for c in (second, a, b):
        c.dispose()


def _hashing(time_cost: int, memory_kib: int) -> Settings:
    return Settings(
        auth=AuthSettings(
            secret_key="container-secret-0123456789-abcdefghij",
            password_time_cost=time_cost,
            password_memory_kib=memory_kib,
            password_parallelism=1,
        )
    )


def test_two_containers_hash_passwords_with_their_own_settings(
    engine: Engine, session: Session
) -> None:
    cheap = bootstrap(_hashing(1, 8), engine=engine)
    other = bootstrap(_hashing(2, 16), engine=engine)
    pw = "a password of each"
    one = auth_service.create_user(session, cheap.password_hasher, username="one", password=pw)
    two = auth_service.create_user(session, other.password_hasher, username="two", password=pw)
    assert "m=8,t=1,p=1" in one.password_hash and "m=16,t=2,p=1" in two.password_hash
    # Signing in through a container re-makes a hash with its own costs, the other's unchanged.
    assert auth_service.authenticate(session, other.password_hasher, "one", pw) is one
    assert "m=16,t=2,p=1" in one.password_hash
    assert auth_service.authenticate(session, cheap.password_hasher, "two", pw) is two
    assert "m=8,t=1,p=1" in two.password_hash
    assert cheap.password_hasher.parameters == HashParameters(1, 8, 1)
    assert other.password_hasher.parameters == HashParameters(2, 16, 1)
    assert bootstrap(SETTINGS, engine=engine).password_hasher.parameters == DEFAULT_PARAMETERS
    mine = PasswordHasher(HashParameters(1, 8, 1))
    assert bootstrap(SETTINGS, engine=engine, password_hasher=mine).password_hasher is mine
