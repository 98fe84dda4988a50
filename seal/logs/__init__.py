"""seal.logs"""
