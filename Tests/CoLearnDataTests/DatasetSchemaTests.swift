import CoLearnData
import Foundation
import Testing

/// Fitting and encoding tabular data, and the errors for broken cells.
@Suite struct DatasetSchemaTests {
  func table(_ text: String, path: String = "h.csv") throws(DataError) -> CSVTable {
    try CSVTable(bytes: Array(text.utf8), path: path)
  }

  /// 4 rows: a numeric column, a categorical one, a text label.
  let clinic = """
    age,smoker,sex,outcome
    30,no,f,well
    50,yes,m,ill
    40,no,m,well
    60,former,f,ill

    """

  @Test func fitsColumnsCategoriesAndClasses() throws {
    let schema = try DatasetSchema.fit(table: table(clinic), labelColumn: "outcome")
    #expect(schema.sourceKind == .csv)
    #expect(schema.labelColumn == "outcome")
    #expect(schema.classes == ["ill", "well"])
    #expect(schema.inputShape == [6])
    #expect(schema.features.map(\.name) == ["age", "smoker", "sex"])
    let age = schema.features[0]
    #expect(age.kind == .numeric && age.offset == 0 && age.width == 1)
    #expect(age.mean == 45)
    #expect(age.standardDeviation == 125.0.squareRoot())  // population: (225+25+25+225)/4
    #expect(schema.features[1].categories == ["former", "no", "yes"])
    #expect(schema.features[1].offset == 1)
    #expect(schema.features[2].categories == ["f", "m"])
    #expect(schema.features[2].offset == 4)
  }

  @Test func encodesWithTheSchemaStatisticsAndOneHot() throws {
    let schema = try DatasetSchema.fit(table: table(clinic), labelColumn: "outcome")
    let dataset = try schema.encode(table(clinic))
    #expect(dataset.name == "h")
    #expect(dataset.sampleShape == [6])
    #expect(dataset.labels == [1, 0, 1, 0])
    let z = Float(15 / 125.0.squareRoot())  // (x − mean) / std in Double, then rounded
    #expect(Array(dataset.features[0..<6]) == [-z, 0, 1, 0, 1, 0])
    #expect(Array(dataset.features[18..<24]) == [z, 1, 0, 0, 1, 0])
    // Another institution, columns in another order, standardised with the shared statistics.
    let other = try table("sex,outcome,smoker,age\nm,well,yes,45\n", path: "b.csv")
    let encoded = try schema.encode(other)
    #expect(encoded.features == [0, 0, 0, 1, 0, 1])
    #expect(encoded.labels == [1])
  }

  @Test func integerLabelsSortNumerically() throws {
    let schema = try DatasetSchema.fit(
      table: table("x,y\n1,10\n2,9\n3,2\n4,10\n"), labelColumn: "y")
    #expect(schema.classes == ["2", "9", "10"])
    #expect(try schema.encode(table("x,y\n1,10\n2,9\n3,2\n4,10\n")).labels == [2, 1, 0, 2])
  }

  /// The rule: a column is categorical only when none of its cells is a number.
  @Test func aTextCellInANumericColumnIsAnError() throws {
    let text = "a,b,y\n1,x,0\n2,y,1\nthree,z,0\n"
    #expect(
      throws: DataError.unparseableCell(path: "h.csv", line: 4, column: "a", value: "three")
    ) {
      try DatasetSchema.fit(table: table(text), labelColumn: "y")
    }
    let message = DataError.unparseableCell(path: "h.csv", line: 4, column: "a", value: "three")
      .description
    #expect(message.contains("h.csv, line 4, column 'a': 'three' is not a finite number"))
    #expect(message.contains("categorical only when none of its cells is a number"))
  }

  @Test func nanAndInfinityCellsAreErrors() throws {
    let nan = "a,y\n1,0\nnan,1\n3,0\n"
    let schema = try DatasetSchema.fit(table: table(nan), labelColumn: "y")
    #expect(throws: DataError.unparseableCell(path: "h.csv", line: 3, column: "a", value: "nan")) {
      try schema.encode(table(nan))
    }
    #expect(throws: DataError.unparseableCell(path: "h.csv", line: 2, column: "a", value: "inf")) {
      try DatasetSchema.fit(table: table("a,y\ninf,0\n2,1\n"), labelColumn: "y")
    }
  }

  @Test func missingCellsAreErrorsUnlessImputed() throws {
    let text = "a,b,y\n1,u,0\n,v,1\n3,u,0\n"
    let schema = try DatasetSchema.fit(table: table(text), labelColumn: "y")
    #expect(throws: DataError.missingValue(path: "h.csv", line: 3, column: "a")) {
      try schema.encode(table(text))
    }
    #expect(
      DataError.missingValue(path: "h.csv", line: 3, column: "a").description
        .contains("--impute mean"))
    // Imputed: the mean of the present cells (2), which standardises to 0.
    let imputed = try DatasetSchema.fit(
      table: table(text + "nan,v,1\n"), labelColumn: "y", imputation: .mean)
    #expect(imputed.features[0].mean == 2)
    #expect(imputed.imputation == .mean)
    let dataset = try imputed.encode(table(text + "nan,v,1\n"))
    #expect(dataset.features[3] == 0 && dataset.features[9] == 0)
    // Categorical cells and labels are never imputed.
    #expect(throws: DataError.missingValue(path: "h.csv", line: 3, column: "b")) {
      try imputed.encode(table("a,b,y\n1,u,0\n2,,1\n"))
    }
    #expect(throws: DataError.missingValue(path: "h.csv", line: 2, column: "y")) {
      try DatasetSchema.fit(table: table("a,y\n1,\n2,1\n"), labelColumn: "y")
    }
  }

  @Test func unknownLabelColumnListsTheColumns() throws {
    do {
      _ = try DatasetSchema.fit(table: table(clinic), labelColumn: "diagnosis")
      Issue.record("an unknown label column was accepted")
    } catch {
      #expect(error.description.contains("no label column 'diagnosis'"))
      #expect(error.description.contains("'age', 'smoker', 'sex', 'outcome'"))
    }
  }

  @Test func statisticsComeFromTheGivenRowsOnly() throws {
    let schema = try DatasetSchema.fit(
      table: table(clinic), labelColumn: "outcome", statisticsRows: [0, 2])
    #expect(schema.features[0].mean == 35)
    // The vocabulary still covers every row.
    #expect(schema.features[1].categories == ["former", "no", "yes"])
    #expect(schema.classes == ["ill", "well"])
  }
}
