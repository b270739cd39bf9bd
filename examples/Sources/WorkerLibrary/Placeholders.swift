// What the docs/worker.md snippet takes as given: the application's own types and code.

struct DownloadOutput: Codable { var path: String }
struct Message: Codable { var to: String; var text: String }
struct Tile: Sendable { var index: Int }

func loadTiles(_ path: String, width: Int) async throws -> [Tile] { (0..<4).map(Tile.init) }
func process(_ tile: Tile) async throws {}
func send(_ message: Message) async throws {}
