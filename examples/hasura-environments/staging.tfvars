jobs_base_url    = "https://jobs.staging.example.com"
cleanup_schedule = "*/30 * * * *"
# jobs_key comes from TF_VAR_jobs_key (a CI secret), never from a file.
