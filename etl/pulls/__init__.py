"""Pull sources (`[[pulls]]` in config.toml): fetch new exports from a drop folder or a platform
API, load them through the one writer, record how each run went, and run them on schedules."""
