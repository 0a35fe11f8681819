jobs_base_url    = "https://jobs.staging.example.com"
actions_base_url = "https://actions.staging.example.com"
payments_url     = "https://payments.staging.example.com/graphql"
cleanup_schedule = "*/30 * * * *"
# jobs_key comes from TF_VAR_jobs_key (a CI secret), never from a file.
# analytics_database_url comes from TF_VAR_analytics_database_url, like jobs_key.
