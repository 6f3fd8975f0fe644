DROP TABLE outcome_indicators;
DROP TABLE outcome_reports;
