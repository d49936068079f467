from core.flags import flags_ensure


def seed() -> None:
    flags_ensure()
