"""Typed formulas f(x, y): the whitelist (functions, parser), the derivation (derive), the worker
processes that run it (workers) and the checked compile of its printed numpy code (loader).
``engine.surfaces.custom`` turns a compiled formula into a surface."""
