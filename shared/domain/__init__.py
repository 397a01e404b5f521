"""Pure domain: spec models, regions, naming, planning, errors. Imports nothing from ``azure``."""
