import CoLearnTensor
import Foundation
import Testing

@Suite struct FastMathTests {
  @Test func fastTanhIsWithinFourTenthsOfAMillionthEverywhere() {
    var worst = 0.0
    var x = -12.0
    while x <= 12 {
      let error = abs(Double(fastTanh(Float(x))) - tanh(Double(Float(x))))
      worst = max(worst, error)
      x += 1e-4
    }
    #expect(worst < 4e-7, "worst absolute error \(worst)")
  }

  @Test func fastTanhIsOddAndSaturates() {
    for x: Float in [0.001, 0.3, 1, 2.5, 7.9, 8, 100, .greatestFiniteMagnitude] {
      #expect(fastTanh(-x) == -fastTanh(x))
    }
    #expect(fastTanh(0) == 0)
    #expect(abs(fastTanh(50) - 1) < 1e-6)
    #expect(abs(fastTanh(-.infinity) + 1) < 1e-6)
  }
}
