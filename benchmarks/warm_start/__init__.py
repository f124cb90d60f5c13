"""Warm-start benchmark: IdenticalDataAndAlgorithm and TransferLearning children against cold starts."""
