"""The CLI's commands, one module per group; bot.cli parses arguments and dispatches."""
