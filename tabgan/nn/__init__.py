"""Networks (generator, discriminator, output head) and pure loss functions."""
