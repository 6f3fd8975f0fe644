-- The inbox lists every proposal a user may see, filtered, sorted and paged in the
-- database (received, due dates, lead department) and the queues read the oldest
-- first: indexes led by the municipality, as every staff list is.
CREATE INDEX proposals_municipality_received ON proposals (municipality_id, received_at, id);
CREATE INDEX proposals_municipality_lead ON proposals (municipality_id, primary_department_id, received_at);
CREATE INDEX proposals_municipality_proposer_due ON proposals (municipality_id, proposer_due_on);
CREATE INDEX proposals_municipality_department_due ON proposals (municipality_id, department_due_on);
CREATE INDEX proposals_municipality_receipt_seq ON proposals (municipality_id, receipt_seq);
-- Department staff see the proposals routed to their department.
CREATE INDEX proposal_departments_department ON proposal_departments (department_id, proposal_id);
