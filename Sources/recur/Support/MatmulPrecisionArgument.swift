import ArgumentParser
import Recur

extension Kernels.MatmulPrecision: ExpressibleByArgument {}
