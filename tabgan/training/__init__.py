"""The training loop, its callbacks, device selection and (optionally) the privacy hook."""
