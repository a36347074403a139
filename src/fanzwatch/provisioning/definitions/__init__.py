"""fanzwatch's own monitoring definitions: jobs, rules, routing and dashboards.

The modules one level up define *what kind of thing* each is (typed models and
renderers); the modules here say *which ones* FANZ has. Every expression names catalog
series only; ``fanzwatch.provisioning.promql`` checks that when rendering.
"""
