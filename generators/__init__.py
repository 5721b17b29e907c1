"""Dialog generators (SOLID, SOLID-RL), seeding and instructions; installed as solid_bench.generators."""
