# <name>
terraform import hasura_cron_trigger.purge_sessions purge-sessions
