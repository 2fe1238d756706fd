"""Mail helpers shared by the MSSanté mock, the CLI and offline checks of captured messages:
safe MIME parsing (`message`), MDN and DSN builders/readers (`reports`), and the health-message
checks of the MSSanté conventions (`health`)."""
