"""Thin RQ job functions. Jobs take ids, load what they need, call a service or the engine, record progress."""
