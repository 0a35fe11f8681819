jobs_base_url = "https://jobs.example.com"
# jobs_key comes from TF_VAR_jobs_key (a CI secret), never from a file.
