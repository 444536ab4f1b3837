"""Async orchestration over the ports: reconcile, phases, smart order, tracker, rate limiter."""
