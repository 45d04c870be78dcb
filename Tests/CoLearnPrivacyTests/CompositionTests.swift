import CoLearnPrivacy
import CoLearnTestSupport
import Testing

@Suite struct CompositionTests {
  @Test func basicCompositionSums() {
    // k = 100 mechanisms of (0.1, 10⁻⁶): (100·0.1, 100·10⁻⁶) = (10, 10⁻⁴).
    let homogeneous = basicComposition(epsilon: 0.1, delta: 1e-6, count: 100)
    #expect(isApproximatelyEqual(homogeneous.epsilon, 10, absolute: 1e-12))
    #expect(isApproximatelyEqual(homogeneous.delta, 1e-4, absolute: 1e-18))
    // (0.1, 0) + (0.2, 10⁻⁵) + (0.3, 0) = (0.6, 10⁻⁵).
    let mixed = basicComposition([
      PrivacyGuarantee(epsilon: 0.1), PrivacyGuarantee(epsilon: 0.2, delta: 1e-5),
      PrivacyGuarantee(epsilon: 0.3),
    ])
    #expect(isApproximatelyEqual(mixed.epsilon, 0.6, absolute: 1e-12))
    #expect(mixed.delta == 1e-5)
  }

  @Test func advancedCompositionMatchesTheHandComputation() {
    // k = 100, ε = 0.1, δ = 0, δ′ = 10⁻⁵:
    //   ln(1/δ′) = ln(10⁵) = 11.512925465
    //   √(2·100·11.512925465) = √2302.585093 = 47.985259122, times ε: 4.798525912
    //   k·ε·(e^ε − 1) = 100·0.1·0.105170918 = 1.051709181
    //   ε′ = 4.798525912 + 1.051709181 = 5.850235093, δ_total = 100·0 + 10⁻⁵.
    let advanced = advancedComposition(epsilon: 0.1, count: 100, deltaPrime: 1e-5)
    #expect(abs(advanced.epsilon - 5.850235093) < 1e-8)
    #expect(advanced.delta == 1e-5)
    // With δ = 10⁻⁷ per mechanism: δ_total = 100·10⁻⁷ + 10⁻⁵ = 2·10⁻⁵, ε′ unchanged.
    let withDelta = advancedComposition(epsilon: 0.1, delta: 1e-7, count: 100, deltaPrime: 1e-5)
    #expect(abs(withDelta.epsilon - 5.850235093) < 1e-8)
    #expect(abs(withDelta.delta - 2e-5) < 1e-18)
    // k = 0 costs nothing but δ′.
    #expect(advancedComposition(epsilon: 0.1, count: 0, deltaPrime: 1e-5).epsilon == 0)
  }

  @Test func theBestBoundIsTheSmallerEpsilonWithItsDelta() {
    // k = 100, ε = 0.1: advanced 5.850 < basic 10.
    let many = bestComposition(epsilon: 0.1, count: 100, deltaPrime: 1e-5)
    #expect(abs(many.epsilon - 5.850235093) < 1e-8 && many.delta == 1e-5)
    // k = 1, ε = 1: advanced √(2·11.5129)·1 + 1·(e − 1) = 4.798526 + 1.718282 = 6.516808 > basic 1.
    let one = bestComposition(epsilon: 1, count: 1, deltaPrime: 1e-5)
    #expect(one == PrivacyGuarantee(epsilon: 1, delta: 0))
    let advancedOne = advancedComposition(epsilon: 1, count: 1, deltaPrime: 1e-5)
    #expect(abs(advancedOne.epsilon - 6.516808) < 1e-6)
  }
}
