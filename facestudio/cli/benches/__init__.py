"""Benchmarks behind `facestudio bench KIND` (reports, never asserts; Qt ones live in facestudio/ui/benches)."""
