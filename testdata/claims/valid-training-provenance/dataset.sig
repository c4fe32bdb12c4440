{
  "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
  "verificationMaterial": {
    "publicKey": {
      "hint": "eac60e0b73b639c83b78adf85753f81a7497588c80a98f8b03352e4a7ea868c4"
    },
    "tlogEntries": []
  },
  "dsseEnvelope": {
    "payload": "ewogICJfdHlwZSI6ICJodHRwczovL2luLXRvdG8uaW8vU3RhdGVtZW50L3YxIiwKICAic3ViamVjdCI6IFsKICAgIHsKICAgICAgIm5hbWUiOiAiZGF0YXNldCIsCiAgICAgICJkaWdlc3QiOiB7CiAgICAgICAgInNoYTI1NiI6ICJjZDhjZjZmNDM4NWZlYTA5ODAyMDg2NTdhZjVkM2UzYmQ1NWYxYWZlMDQwNjA4Nzk4NDJkZmU1YTg2NDhlZjcxIgogICAgICB9CiAgICB9CiAgXSwKICAicHJlZGljYXRlVHlwZSI6ICJodHRwczovL21vZGVsX3NpZ25pbmcvc2lnbmF0dXJlL3YxLjAiLAogICJwcmVkaWNhdGUiOiB7CiAgICAic2VyaWFsaXphdGlvbiI6IHsKICAgICAgIm1ldGhvZCI6ICJmaWxlcyIsCiAgICAgICJoYXNoX3R5cGUiOiAic2hhMjU2IiwKICAgICAgImFsbG93X3N5bWxpbmtzIjogZmFsc2UsCiAgICAgICJpZ25vcmVfcGF0aHMiOiBbCiAgICAgICAgIi5jYWNoZS9odWdnaW5nZmFjZSIsCiAgICAgICAgIi5naXQiLAogICAgICAgICIuZ2l0YXR0cmlidXRlcyIsCiAgICAgICAgIi5naXRodWIiLAogICAgICAgICIuZ2l0aWdub3JlIgogICAgICBdCiAgICB9LAogICAgInJlc291cmNlcyI6IFsKICAgICAgewogICAgICAgICJuYW1lIjogInRyYWluLTAwMDAwLmpzb25sIiwKICAgICAgICAiYWxnb3JpdGhtIjogInNoYTI1NiIsCiAgICAgICAgImRpZ2VzdCI6ICJlZGQ0YTE2ZTY4ZDlmMTkxZDAzNDE5NmQyMTNkOWY4MjU1MjI5OTU1YWM0MDI4YzZiMmJjNDZiODZmMzllZjY5IgogICAgICB9CiAgICBdCiAgfQp9Cg==",
    "payloadType": "application/vnd.in-toto+json",
    "signatures": [
      {
        "sig": "MEUCIQCIObkVigUeQcDhCLkqndXwJ0qgvVtcJ74dnMaYiddt3gIgCwyTG6EC3NtMG97IBRb9lRNRiptP2DV88QlbfF72+n0=",
        "keyid": ""
      }
    ]
  }
}
