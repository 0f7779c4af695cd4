"""A finished count rendered for people and programs."""
