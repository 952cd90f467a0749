"""Local tooling for Domain Guard: fixture servers, the moto stack and the CLI."""
