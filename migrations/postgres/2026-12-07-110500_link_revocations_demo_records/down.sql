DROP TABLE demo_records;
DROP TABLE link_revocations;
