"""Reports for leads: periods, figure definitions, rendering, chart, CSV, `/report`, digest."""
