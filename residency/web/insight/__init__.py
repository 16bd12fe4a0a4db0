"""Programme insight: dashboards scoped to the viewer (services, charts and views)."""
