import Crypto
import Foundation
import SwiftASN1
import X509

/// A federation's own certificate authority (`colearn provision`): a self-signed CA that signs
/// the server's certificate, so participants trust exactly this federation's server (their kit
/// holds the CA certificate; `participate --tls-ca`) and nobody needs openssl or a public CA.
///
/// Keys are ECDSA P-256 and signatures SHA-256, what every TLS stack accepts. The server
/// certificate names every host name and address participants dial as a subjectAltName (TLS
/// clients check the name they dialled against those, not against the common name) and is
/// marked for server authentication only.
public struct CertificateAuthority: Sendable {
  /// The CA's certificate (its PEM goes into every kit).
  public let certificate: Certificate
  private let key: P256.Signing.PrivateKey

  /// A new CA named `commonName`, valid from now for `validity` seconds.
  public static func create(commonName: String, validity: TimeInterval) throws -> Self {
    let key = P256.Signing.PrivateKey()
    let signer = Certificate.PrivateKey(key)
    let name = try DistinguishedName { CommonName(commonName) }
    let now = Date()
    let certificate = try Certificate(
      version: .v3,
      serialNumber: Certificate.SerialNumber(),
      publicKey: signer.publicKey,
      notValidBefore: now.addingTimeInterval(-300),
      notValidAfter: now.addingTimeInterval(validity),
      issuer: name,
      subject: name,
      signatureAlgorithm: .ecdsaWithSHA256,
      extensions: try Certificate.Extensions {
        Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
        Critical(KeyUsage(keyCertSign: true, cRLSign: true))
        SubjectKeyIdentifier(hash: signer.publicKey)
      },
      issuerPrivateKey: signer)
    return Self(certificate: certificate, key: key)
  }

  /// The CA read back from its PEM files (to issue more later, e.g. a new server certificate).
  ///
  /// - Throws: ``ProvisioningError/unreadableCertificate(_:_:)`` or
  ///   ``ProvisioningError/keyDoesNotMatch(_:)`` naming the file.
  public init(certificatePEM: String, keyPEM: String, certificatePath: String, keyPath: String)
    throws(ProvisioningError)
  {
    let certificate: Certificate
    let key: P256.Signing.PrivateKey
    do {
      certificate = try Certificate(pemEncoded: certificatePEM)
    } catch {
      throw .unreadableCertificate(certificatePath, "\(error)")
    }
    do {
      key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
    } catch {
      throw .unreadableCertificate(keyPath, "not a P-256 private key in PEM (\(error))")
    }
    guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
      throw .keyDoesNotMatch(keyPath)
    }
    self.init(certificate: certificate, key: key)
  }

  private init(certificate: Certificate, key: P256.Signing.PrivateKey) {
    self.certificate = certificate
    self.key = key
  }

  /// The CA certificate in PEM.
  public func certificatePEM() throws -> String { try certificate.serializeAsPEM().pemString }

  /// The CA's private key in PEM (PKCS #8). Whoever holds it can impersonate the server.
  public var keyPEM: String { key.pemRepresentation }

  /// A server certificate and its new private key (both PEM) for `names`: DNS names and IPv4 or
  /// IPv6 addresses, each a subjectAltName; the first is also the common name.
  ///
  /// - Throws: ``ProvisioningError/badServerName(_:)`` for a name that is neither.
  public func issueServerCertificate(names: [String], validity: TimeInterval) throws
    -> (certificatePEM: String, keyPEM: String)
  {
    guard let first = names.first else { throw ProvisioningError.badServerName("") }
    let alternativeNames = try names.map { name throws(ProvisioningError) -> GeneralName in
      if let address = Self.addressBytes(name) {
        return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(address)))
      }
      guard Self.isDNSName(name) else { throw .badServerName(name) }
      return .dnsName(name)
    }
    let serverKey = P256.Signing.PrivateKey()
    let publicKey = Certificate.PublicKey(serverKey.publicKey)
    let now = Date()
    let certificate = try Certificate(
      version: .v3,
      serialNumber: Certificate.SerialNumber(),
      publicKey: publicKey,
      notValidBefore: now.addingTimeInterval(-300),
      notValidAfter: min(now.addingTimeInterval(validity), self.certificate.notValidAfter),
      issuer: self.certificate.subject,
      subject: try DistinguishedName { CommonName(first) },
      signatureAlgorithm: .ecdsaWithSHA256,
      extensions: try Certificate.Extensions {
        Critical(BasicConstraints.notCertificateAuthority)
        Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
        try ExtendedKeyUsage([.serverAuth])
        SubjectAlternativeNames(alternativeNames)
        SubjectKeyIdentifier(hash: publicKey)
        if let authority = try? self.certificate.extensions.subjectKeyIdentifier {
          AuthorityKeyIdentifier(keyIdentifier: authority.keyIdentifier)
        }
      },
      issuerPrivateKey: Certificate.PrivateKey(key))
    return (try certificate.serializeAsPEM().pemString, serverKey.pemRepresentation)
  }

  /// Whether `name` can go into a server certificate: a DNS name or an IP address.
  public static func isValidServerName(_ name: String) -> Bool {
    addressBytes(name) != nil || isDNSName(name)
  }

  /// The 4 or 16 bytes of an IPv4 or IPv6 literal, nil for anything else.
  static func addressBytes(_ text: String) -> [UInt8]? {
    var v4 = in_addr()
    if inet_pton(AF_INET, text, &v4) == 1 {
      return withUnsafeBytes(of: &v4) { Array($0) }
    }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, text, &v6) == 1 {
      return withUnsafeBytes(of: &v6) { Array($0) }
    }
    return nil
  }

  /// A host name of letters, digits, '-' and dots (a leading "*." wildcard allowed), 1–253
  /// characters, no empty label.
  static func isDNSName(_ text: String) -> Bool {
    var labels = text.split(separator: ".", omittingEmptySubsequences: false)
    if labels.first == "*" { labels.removeFirst() }
    return !text.isEmpty && text.count <= 253 && !labels.isEmpty
      && labels.allSatisfy { label in
        !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
          && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
      }
  }
}

/// Why provisioning could not go on; each message names the file or name and what to do.
public enum ProvisioningError: Error, Equatable, Sendable, CustomStringConvertible {
  case unreadableCertificate(String, String)
  case keyDoesNotMatch(String)
  case badServerName(String)

  public var description: String {
    switch self {
    case .unreadableCertificate(let path, let reason):
      return "\(path) is not a usable certificate or key: \(reason)"
    case .keyDoesNotMatch(let path):
      return "the key \(path) does not belong to the CA certificate beside it; restore the pair "
        + "that `colearn provision` wrote"
    case .badServerName(let name):
      return name.isEmpty
        ? "name at least one server host name or address"
        : "\"\(name.prefix(80))\" is neither a host name nor an IP address; server names are "
          + "what participants dial, e.g. fl.example.org or 10.0.0.5"
    }
  }
}
