"""SLO monitoring: budgets, burn rates and quality objectives."""
