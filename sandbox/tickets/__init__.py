"""The ticketing simulator: Jira Cloud REST v3 and ServiceNow Table API subsets, firing signed webhooks."""
