// Banked scratchpad: Banks behavioural SRAMs of Depth x Width bits, each with one write and
// one read port and its own addresses (flat vectors, bank i at [i*AddrBits +: AddrBits]).
// Reads have one cycle of latency; a read and a write of the same address in one cycle
// return the old data.
module rtl_spad #(
  parameter int unsigned Banks    = 2,
  parameter int unsigned Width    = 8,
  parameter int unsigned Depth    = 16,
  parameter int unsigned AddrBits = $clog2(Depth)
) (
  input  logic                      clk_i,
  input  logic                      rst_ni,
  input  logic [Banks-1:0]          wr_en_i,
  input  logic [Banks*AddrBits-1:0] wr_addr_i,
  input  logic [Banks*Width-1:0]    wr_data_i,
  input  logic [Banks-1:0]          rd_en_i,
  input  logic [Banks*AddrBits-1:0] rd_addr_i,
  output logic [Banks*Width-1:0]    rd_data_o
);

`ifndef SYNTHESIS
  if (Banks < 1 || Banks > 64) begin : gen_bad_banks
    $error("rtl_spad: Banks must lie in [1, 64]");
  end
  if (Width < 1 || Width > 256) begin : gen_bad_width
    $error("rtl_spad: Width must lie in [1, 256]");
  end
  if (Depth < 2 || Depth > 65536) begin : gen_bad_depth
    $error("rtl_spad: Depth must lie in [2, 65536]");
  end
  if (AddrBits != $clog2(Depth)) begin : gen_bad_addr_bits
    $error("rtl_spad: AddrBits must equal $clog2(Depth)");
  end
`endif

  for (genvar i = 0; i < Banks; i++) begin : gen_bank
    logic [Width-1:0] mem_q [0:Depth-1];
    logic [Width-1:0] rd_q;

    always_ff @(posedge clk_i) begin
      if (wr_en_i[i]) begin
        mem_q[wr_addr_i[i*AddrBits +: AddrBits]] <= wr_data_i[i*Width +: Width];
      end
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        rd_q <= '0;
      end else if (rd_en_i[i]) begin
        rd_q <= mem_q[rd_addr_i[i*AddrBits +: AddrBits]];
      end
    end

    assign rd_data_o[i*Width +: Width] = rd_q;
  end

endmodule
