"""One module per `crowdmeter` subcommand; each exposes `register(subparsers)`."""
