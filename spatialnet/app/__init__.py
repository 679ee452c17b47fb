"""The Gradio app: every task of a checkpoint in front of a person (``spatialnet app``)."""
