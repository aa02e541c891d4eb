"""Gradio glue for Latent Lab: one module per tab. Only this package and app.py import gradio."""
