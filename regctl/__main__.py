"""``python -m regctl``: the same entry point as the ``regctl`` console script."""

from regctl.cli import main

if __name__ == "__main__":
    main()
