"""The Crowdmeter Dash app: shell, auth, row-scoped data access and pages."""
