DROP TABLE digest_runs;
DROP TABLE job_state;
