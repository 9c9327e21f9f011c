"""Horoi, Geadah, Lajoie & Wolf 2020: low-dimensional dynamics of an RNN on sequential MNIST."""
