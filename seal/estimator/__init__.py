"""seal.estimator"""
