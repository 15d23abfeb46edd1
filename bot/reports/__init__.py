"""Programme reporting: the referral export and the monthly report (CSV and PNG), with no personal data."""
