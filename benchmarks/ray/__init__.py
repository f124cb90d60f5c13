"""Ray executor and model-artifact benchmark."""
