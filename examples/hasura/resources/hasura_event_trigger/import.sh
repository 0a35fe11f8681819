# <source>.<name>
terraform import hasura_event_trigger.post_changed default.post_changed
# <name> (source "default")
terraform import hasura_event_trigger.post_changed post_changed
