"""Mail and documents to records: pure functions from bytes, touching no network, disk or clock."""
