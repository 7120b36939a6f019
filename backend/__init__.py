"""ValueRisk's computing side: data, models, importance, attacks, store and jobs.

Nothing here imports Streamlit, so every job also runs headless (``python -m backend``).
"""
