"""seal.carbon"""
