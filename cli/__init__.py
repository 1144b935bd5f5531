"""The `crowdmeter` command line: `cli.main` is the entry point, `cli/commands/` one module per
command. Nothing else in the project imports this package."""
