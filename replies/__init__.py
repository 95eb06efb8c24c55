"""Reply templates and their rendering: Chinese acknowledgements, correction requests, reminders."""
