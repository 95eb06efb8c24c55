"""The CLI's commands, one module per group of subcommands (bot.cli parses the arguments and dispatches).

May import: any room of the bot, config. Nothing imports it but bot.cli."""
